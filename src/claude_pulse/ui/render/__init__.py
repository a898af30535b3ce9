"""Pillow drawing: every image the app shows, from the plain values of `core.viewmodel`.

`card` composes the Deep Dive card (header, banner, `gauge`, `pace`, `chart`, limits); `tray`
draws the tray icon; `logo` the logo; `shapes` and `fonts` are what they share. No Tk here: the
window (`ui.deep_dive`) only puts the finished image on screen.
"""
