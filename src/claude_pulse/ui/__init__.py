"""Edges the user sees: Pillow rendering, the Tk Deep Dive window, the tray icon, notifications."""
