"""Personal data at rest: per-field AES-256-GCM envelope encryption under KMS data keys,
blind indexes for lookups, per-customer keys for crypto-shredding (docs/encryption.md)."""
