"""Records: the service behind the records API (CRUD, list, expand, fields, batch)."""
