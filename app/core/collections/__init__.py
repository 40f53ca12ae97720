"""Collections: definitions (model), field types, validation, DDL, persistence and the schema cache."""
