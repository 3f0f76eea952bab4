// Phone site camera: publishes the rear camera to siteaudit over WHIP (RFC 9725).
// The camera id and token come from the URL fragment (#cam=..&token=..), which never reaches
// server logs; `&ice=relay` forces media through the server's TURN relay (iceTransportPolicy "relay").
// STUN/TURN servers come from the server (RFC 9725 Link rel="ice-server" headers on an authenticated
// OPTIONS), freshly on every connection so time-limited TURN credentials never go stale.
// No build step, no external resources. Texts: the "camera." catalogue keys (./i18n.js).
import { languageSwitch, t } from "./i18n.js";

(() => {
  const RETRY_DELAYS_S = [1, 2, 4, 8, 15, 30];
  const ICE_GATHER_TIMEOUT_MS = 5000;
  const DISCONNECT_GRACE_MS = 5000; // "disconnected" often heals itself; "failed" never does
  const VIDEO = { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } };
  const ENCODING = { maxBitrate: 2_000_000, maxFramerate: 15 }; // 4G uplink; the detector needs far fewer fps

  const $ = (id) => document.getElementById(id);
  document.querySelector("main > header").append(languageSwitch());
  const ui = {
    status: $("status"),
    label: $("camera-label"),
    preview: $("preview"),
    framesSent: $("frames-sent"),
    resolution: $("resolution"),
    fps: $("fps"),
    route: $("route"),
    start: $("start"),
    stop: $("stop"),
    enrol: $("enrol"),
  };

  /** Errors the publisher must not retry: the user has to fix something first. */
  class Fatal extends Error {
    constructor(state, message) {
      super(message);
      this.state = state;
    }
  }

  const session = {
    config: null, // {cam, token, endpoint, policy}
    stream: null,
    pc: null,
    resource: null, // WHIP session URL to DELETE
    attempt: 0,
    running: false,
    retryTimer: null,
    graceTimer: null,
    statsTimer: null,
    wakeLock: null,
  };

  function show(state, text) {
    ui.status.dataset.state = state;
    ui.status.textContent = text;
  }

  function readConfig() {
    const params = new URLSearchParams(location.hash.slice(1));
    const cam = params.get("cam");
    const token = params.get("token");
    if (!cam || !token) return null;
    const endpoint = new URL(params.get("whip") || `/whip/${encodeURIComponent(cam)}`, location.href);
    const policy = params.get("ice") === "relay" ? "relay" : "all";
    return { cam, token, endpoint: endpoint.href, policy };
  }

  async function openCamera() {
    if (!window.isSecureContext || !navigator.mediaDevices) {
      throw new Fatal("error", t("camera.insecure"));
    }
    try {
      return await navigator.mediaDevices.getUserMedia({ video: VIDEO, audio: false });
    } catch (err) {
      const denied = err && (err.name === "NotAllowedError" || err.name === "SecurityError");
      throw new Fatal("error", denied ? t("camera.denied")
        : t("camera.cannotOpen", { reason: err && err.message ? err.message : err }));
    }
  }

  function preferCodecs(transceiver) {
    if (!window.RTCRtpSender || !RTCRtpSender.getCapabilities || !transceiver.setCodecPreferences) return;
    const codecs = RTCRtpSender.getCapabilities("video").codecs;
    // The server (aiortc) decodes H.264 and VP8; phones encode H.264 in hardware.
    const rank = (c) => {
      const mime = c.mimeType.toLowerCase();
      if (mime === "video/h264") return (c.sdpFmtpLine || "").includes("packetization-mode=1") ? 0 : 1;
      if (mime === "video/vp8") return 2;
      if (mime === "video/rtx") return 3;
      return -1;
    };
    const preferred = codecs.filter((c) => rank(c) >= 0).sort((a, b) => rank(a) - rank(b));
    if (preferred.some((c) => rank(c) < 3)) transceiver.setCodecPreferences(preferred);
  }

  function iceGatheringDone(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ICE_GATHER_TIMEOUT_MS); // send what we have
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  /** RFC 8288 Link header values with rel="ice-server" → RTCIceServer dictionaries. */
  function parseIceLinks(header) {
    const servers = [];
    const links = /<([^>]*)>((?:\s*;\s*[A-Za-z-]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g;
    const param = /;\s*([A-Za-z-]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?/g;
    for (const link of (header || "").matchAll(links)) {
      const params = {};
      for (const p of link[2].matchAll(param)) {
        params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] || "").trim();
      }
      if (params.rel !== "ice-server") continue;
      const server = { urls: link[1] };
      if (params.username !== undefined) {
        server.username = params.username;
        server.credential = params.credential;
      }
      servers.push(server);
    }
    return servers;
  }

  async function fetchIceServers() {
    const { endpoint, token } = session.config;
    let response;
    try {
      response = await fetch(endpoint, {
        method: "OPTIONS",
        headers: { Authorization: `Bearer ${token}` },
        cache: "no-store",
      });
    } catch (err) {
      throw new Error(t("camera.unreachable"));
    }
    if (response.status === 401) throw new Fatal("unauthorized", t("camera.unauthorized"));
    if (response.status === 404) throw new Fatal("error", t("camera.unknown"));
    if (!response.ok) throw new Error(t("camera.serverError", { status: response.status }));
    return parseIceLinks(response.headers.get("Link"));
  }

  async function postOffer(pc) {
    const { endpoint, token } = session.config;
    let response;
    try {
      response = await fetch(endpoint, {
        method: "POST",
        headers: { "Content-Type": "application/sdp", Authorization: `Bearer ${token}` },
        body: pc.localDescription.sdp,
        cache: "no-store",
      });
    } catch (err) {
      throw new Error(t("camera.unreachable"));
    }
    if (response.status === 201) {
      const location = response.headers.get("Location");
      // Deployed mode: the API redirected the offer (307) to the worker that runs the camera; the
      // session lives there, so a relative Location resolves against the final URL.
      session.resource = location ? new URL(location, response.url || endpoint).href : null;
      return response.text();
    }
    const detail = await response.json().then((body) => body.detail).catch(() => response.statusText);
    if (response.status === 401) throw new Fatal("unauthorized", t("camera.unauthorized"));
    if (response.status === 404) throw new Fatal("error", t("camera.unknownDetail", { detail }));
    if (response.status >= 400 && response.status < 500) throw new Fatal("error", t("camera.rejected", { detail }));
    throw new Error(t("camera.serverError", { status: response.status }));
  }

  async function connect() {
    const iceServers = await fetchIceServers();
    const policy = session.config.policy;
    const hasTurn = iceServers.some((s) => [].concat(s.urls).some((u) => u.startsWith("turn")));
    if (policy === "relay" && !hasTurn) {
      throw new Fatal("error", t("camera.needTurn"));
    }
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", iceServers, iceTransportPolicy: policy });
    session.pc = pc;
    const [track] = session.stream.getVideoTracks();
    const transceiver = pc.addTransceiver(track, {
      direction: "sendonly",
      streams: [session.stream],
      sendEncodings: [ENCODING],
    });
    preferCodecs(transceiver);
    pc.addEventListener("connectionstatechange", () => onConnectionState(pc));
    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringDone(pc); // WHIP without trickle: the offer carries every candidate
    const answer = await postOffer(pc);
    if (session.pc !== pc) return; // stopped meanwhile
    await pc.setRemoteDescription({ type: "answer", sdp: answer });
    // The server closing DTLS (session replaced, deleted, server restart) is known at once,
    // long before ICE would notice the silence.
    const dtls = transceiver.sender.transport;
    if (dtls) {
      dtls.addEventListener("statechange", () => {
        if (session.pc === pc && (dtls.state === "closed" || dtls.state === "failed")) {
          reconnect(t("camera.sessionEnded"));
        }
      });
    }
  }

  function onConnectionState(pc) {
    if (session.pc !== pc || !session.running) return;
    clearTimeout(session.graceTimer);
    switch (pc.connectionState) {
      case "connected":
        session.attempt = 0;
        show("live", t("camera.live"));
        acquireWakeLock();
        break;
      case "disconnected":
        show("reconnecting", t("camera.unstable"));
        session.graceTimer = setTimeout(() => reconnect(t("camera.lost")), DISCONNECT_GRACE_MS);
        break;
      case "failed":
        reconnect(t("camera.failed"));
        break;
    }
  }

  async function publish() {
    if (!session.running) return;
    show(session.attempt ? "reconnecting" : "connecting", t(session.attempt ? "camera.reconnecting" : "app.connecting"));
    try {
      await connect();
    } catch (err) {
      if (err instanceof Fatal) {
        fail(err);
      } else {
        reconnect(err && err.message ? err.message : String(err));
      }
    }
  }

  function reconnect(reason) {
    if (!session.running) return;
    hangUp();
    const delay = RETRY_DELAYS_S[Math.min(session.attempt, RETRY_DELAYS_S.length - 1)];
    session.attempt += 1;
    show("reconnecting", t("camera.reconnectIn", { delay, reason }));
    clearTimeout(session.retryTimer);
    session.retryTimer = setTimeout(publish, delay * 1000 * (0.8 + Math.random() * 0.4));
  }

  /** Close the peer connection and tell the server (best effort), keeping the camera open. */
  function hangUp() {
    clearTimeout(session.graceTimer);
    if (session.resource) {
      fetch(session.resource, {
        method: "DELETE",
        headers: { Authorization: `Bearer ${session.config.token}` },
        keepalive: true,
      }).catch(() => {});
      session.resource = null;
    }
    if (session.pc) {
      session.pc.close();
      session.pc = null;
    }
  }

  function fail(err) {
    stop();
    show(err.state, err.message);
  }

  async function start() {
    session.config = session.config || readConfig();
    if (!session.config) {
      ui.enrol.hidden = false;
      show("idle", t("camera.enterDetails"));
      return;
    }
    ui.enrol.hidden = true;
    ui.start.hidden = true;
    ui.label.hidden = false;
    ui.label.textContent = t("app.cameraN", { id: session.config.cam });
    session.running = true;
    session.attempt = 0;
    show("connecting", t("camera.opening"));
    try {
      session.stream = session.stream || (await openCamera());
    } catch (err) {
      fail(err instanceof Fatal ? err : new Fatal("error", String(err)));
      return;
    }
    ui.preview.srcObject = session.stream;
    ui.stop.hidden = false;
    session.statsTimer = setInterval(updateStats, 1000);
    await publish();
  }

  function stop() {
    session.running = false;
    clearTimeout(session.retryTimer);
    clearInterval(session.statsTimer);
    hangUp();
    if (session.stream) session.stream.getTracks().forEach((t) => t.stop());
    session.stream = null;
    ui.preview.srcObject = null;
    releaseWakeLock();
    ui.stop.hidden = true;
    ui.start.hidden = false;
    show("idle", t("camera.stopped"));
  }

  async function updateStats() {
    const pc = session.pc;
    if (!pc) return;
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => {
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
      if (s.type !== "outbound-rtp" || s.kind !== "video") return;
      ui.framesSent.textContent = String(s.framesSent || 0);
      if (s.frameWidth) ui.resolution.textContent = `${s.frameWidth}×${s.frameHeight}`;
      if (s.framesPerSecond !== undefined) ui.fps.textContent = String(Math.round(s.framesPerSecond));
    });
    // Which way the media goes: direct (host/srflx candidate) or through the TURN relay.
    const pair = pairId && stats.get(pairId);
    const local = pair && stats.get(pair.localCandidateId);
    if (local && local.candidateType) {
      ui.route.dataset.candidate = local.candidateType;
      ui.route.textContent = t(local.candidateType === "relay" ? "camera.relay" : "camera.direct");
    }
  }

  async function acquireWakeLock() {
    if (!("wakeLock" in navigator) || session.wakeLock || document.visibilityState !== "visible") return;
    try {
      session.wakeLock = await navigator.wakeLock.request("screen");
      session.wakeLock.addEventListener("release", () => { session.wakeLock = null; });
    } catch (err) {
      // Battery saver or an unsupported browser: the page still works, the screen may sleep.
    }
  }

  function releaseWakeLock() {
    if (session.wakeLock) session.wakeLock.release().catch(() => {});
    session.wakeLock = null;
  }

  ui.stop.addEventListener("click", stop);
  ui.start.addEventListener("click", start);
  ui.enrol.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(ui.enrol);
    location.hash = new URLSearchParams({ cam: form.get("cam"), token: form.get("token") }).toString();
  });
  window.addEventListener("hashchange", () => {
    if (session.running) stop();
    session.config = readConfig();
    start();
  });
  window.addEventListener("online", () => {
    if (session.running && (!session.pc || session.pc.connectionState !== "connected")) {
      clearTimeout(session.retryTimer);
      hangUp();
      session.attempt = 0;
      publish();
    }
  });
  document.addEventListener("visibilitychange", () => {
    if (session.running && document.visibilityState === "visible") acquireWakeLock();
  });
  window.addEventListener("pagehide", hangUp);

  start();
})();
