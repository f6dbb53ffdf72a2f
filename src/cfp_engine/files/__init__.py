"""Files the engine reads and writes: atomic writes and checks made before any work starts.

:func:`atomic_path` and its helpers write outputs so that no partial file is ever left;
:func:`check_input_path`, :func:`check_output_path` and :func:`read_text_file` check
paths and read inputs with one-line errors.
"""

from cfp_engine.files.atomic import atomic_path, write_bytes_atomically, write_text_atomically
from cfp_engine.files.checks import (
    check_input_path,
    check_output_folder,
    check_output_path,
    read_text_file,
)

__all__ = [
    "atomic_path",
    "check_input_path",
    "check_output_folder",
    "check_output_path",
    "read_text_file",
    "write_bytes_atomically",
    "write_text_atomically",
]
