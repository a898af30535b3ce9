"""I/O services: token store and manager, usage client, shared state files, history."""
