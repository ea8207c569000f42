"""The storage layer: the one DynamoDB table and the payload bucket.

Keys (built and parsed only in :mod:`.keys`), derived ids, attribute-value
conversion, the conventions every reader and writer shares, the tenant-scoped
base every repository extends, and the ticket store's repositories. Nothing here
imports the layers above it (api, ingest, pipeline, tenancy, secrets).
"""
