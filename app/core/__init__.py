"""The domain: collections, records, rules, hooks and errors. No HTTP, no AWS SDK."""
