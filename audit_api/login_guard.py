"""Login throttling (per client address and per account, `limits` moving windows in memory) and a small,
bounded pool of password-hashing threads, so a login flood can neither guess passwords quickly nor starve
the request threadpool that every other route runs in.

Order of checks for `POST /api/auth/token`, all before any hashing:
1. the client address's attempts (every attempt counts) — 429 with Retry-After;
2. a free place in the hashing pool (workers + queue) — else 429 "busy", Retry-After 1, counting nothing
   against the account, so a flood from elsewhere cannot lock a user out by keeping the pool full;
3. the account's failures (an attempt is counted before hashing, so concurrent guesses cannot overshoot,
   and the count is cleared when the password is right) — 429 with Retry-After.
The in-memory store is per API process: N replicas allow N times the configured attempts.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from audit_api import audit_log
from audit_api.auth import authenticate
from audit_api.models import User
from audit_api.schemas.people import Token
from audit_api.services.sessions import start_session
from audit_api.services.users import SYSTEM_ACTOR
from audit_api.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_KEY_LENGTH = 254  # an email's longest; longer usernames cannot exist and are cut for the limiter key


class LoginThrottled(Exception):
    """Refused before any password check: answer 429 with this detail and Retry-After (seconds)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


def _lower_priority(nice: int) -> None:
    """Run this thread (and the threads argon2 starts from it for its lanes) at a lower CPU priority.
    Linux keeps a nice value per thread; elsewhere the whole process would change, so it is left alone."""
    if nice and sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


class HashPool:
    """`workers` threads for password hashing, with at most `queue` more jobs waiting for one of them.

    Argon2 is memory- and CPU-hard on purpose and runs its lanes in parallel threads, so the pool bounds
    both the threads it takes and (through `nice`) how much CPU it can take from the other requests.
    """

    def __init__(self, workers: int, queue: int, nice: int = 0) -> None:
        self._workers = workers
        self._nice = nice
        self._capacity = workers + queue
        self._pending = 0
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None

    def try_reserve(self) -> bool:
        """Take a place (running or waiting); False at once when all are taken."""
        with self._lock:
            if self._pending >= self._capacity:
                return False
            self._pending += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, job: Callable[[], T]) -> T:
        """Run `job` on a hashing thread in a reserved place; the place is freed when the job ends (even if
        the client went away meanwhile)."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self._workers,
                    thread_name_prefix="password-hash",
                    initializer=_lower_priority,
                    initargs=(self._nice,),
                )
            future = self._executor.submit(job)
        future.add_done_callback(lambda _: self.release())
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


def _window(amount: int, seconds: int) -> RateLimitItem:
    return RateLimitItemPerSecond(amount, seconds, namespace="siteaudit-login")


class LoginGuard:
    """What `POST /api/auth/token` runs: throttle, then verify the password on the hashing pool."""

    def __init__(self, settings: Settings, factory: sessionmaker[Session]) -> None:
        self._settings = settings
        self._factory = factory
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_address = _window(settings.login_address_attempts, settings.login_address_window_s)
        self._per_account = _window(settings.login_account_failures, settings.login_account_window_s)
        self.pool = HashPool(
            settings.password_hash_workers, settings.password_hash_queue, settings.password_hash_nice
        )

    def _log_once(self, message: str, item: RateLimitItem, key: str) -> None:
        """One warning per throttled key and window, not one per refused attempt of a flood."""
        if self._limiter.hit(_window(1, item.get_expiry()), "logged", item.key_for(key)):
            log.warning("%s (further refusals for %d s are not logged)", message, item.get_expiry())

    def _retry_after(self, item: RateLimitItem, *key: str) -> int:
        reset_at = self._limiter.get_window_stats(item, *key).reset_time
        return max(1, math.ceil(reset_at - time.time()))

    async def login(self, username: str, password: str, address: str) -> Token | None:
        """The new sign-in's tokens, None for a wrong email or password; LoginThrottled when refused."""
        email = username.strip().lower()[:MAX_KEY_LENGTH]
        if not self._limiter.hit(self._per_address, "address", address):
            self._log_once(f"login refused: too many attempts from {address}", self._per_address, address)
            raise LoginThrottled(
                "too many login attempts from this address; retry later",
                self._retry_after(self._per_address, "address", address),
            )
        if not self.pool.try_reserve():
            raise LoginThrottled("the server is busy checking other logins; retry in a moment", 1)
        try:
            if not self._limiter.hit(self._per_account, "account", email):
                self._log_once(f"login refused: too many failures for {email!r}", self._per_account, email)
                raise LoginThrottled(
                    "too many failed logins for this account; retry later",
                    self._retry_after(self._per_account, "account", email),
                )
            last_attempt = self._limiter.get_window_stats(self._per_account, "account", email).remaining == 0
        except BaseException:
            self.pool.release()
            raise
        return await self.pool.run(lambda: self._attempt(email, password, address, last_attempt))

    def _attempt(self, email: str, password: str, address: str, last_attempt: bool) -> Token | None:
        """On a hashing thread: check the password; open a session, or record the failure."""
        with self._factory() as db:
            user = authenticate(db, email, password)
            if user is not None:
                self._limiter.clear(self._per_account, "account", email)
                return start_session(db, user, self._settings, client_address=address)
            log.warning("failed login for %r from %s", email, address)
            if last_attempt:
                self._record_lockout(db, email, address)
            return None

    def _record_lockout(self, db: Session, email: str, address: str) -> None:
        """One audit row per locked account and window (not one per attempt: the chain is no flood log)."""
        user_id = db.scalars(select(User.id).where(User.email == email)).first()
        if user_id is None:
            return  # unknown accounts are only logged: an attacker chooses how many there are
        payload = {
            "address": address,
            "failures": self._settings.login_account_failures,
            "window_s": self._settings.login_account_window_s,
        }
        audit_log.append(db, SYSTEM_ACTOR, "auth.login_locked", f"user:{user_id}", payload)
        db.commit()

    def close(self) -> None:
        self.pool.close()
