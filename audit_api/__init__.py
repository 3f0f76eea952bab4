"""The audit service: FastAPI app, database, evidence storage, auth, alerts and the inspector workflow."""
