"""The pure core: models, time math, decisions. No I/O, no GUI, no HTTP; `now` is a parameter."""
