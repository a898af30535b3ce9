"""Operating-system integration: start at login, file protection, single instance, logging."""
