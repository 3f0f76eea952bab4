"""The worker: the cameras this process leases, run through ingest and detect, recorded in the database.

`sync` (CameraSync, start_worker) keeps an `ingest.worker.Worker` equal to the cameras whose leases
`lease_keeper.LeaseKeeper` holds; `recorder.EventRecorder` stores each event's evidence and rows, every
write fenced by the camera's lease epoch. `siteaudit worker` (and the embedded `serve`/`demo`) start it.
"""
