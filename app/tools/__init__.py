"""Generic helpers with no knowledge of collections, records or HTTP."""
