"""Use cases. No HTTP or ASGI types in here: edges parse, services decide, storage keeps."""
