"""Files the engine reads and writes: atomic writes and checks made before any work starts."""
