"""Writes the service has no method for, each one unit of work on the store: the directory
(import, seeding, erasure), training records, web accounts. The CLI acts through these or
through the service, never by opening a transaction itself."""
