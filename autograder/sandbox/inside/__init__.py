"""Everything that runs inside the sandbox: the zygote, the child and what they share.

The rule of this folder: its modules import only the standard library, torch and
numpy, and each other by relative import — never ``autograder`` or anything else
of the grader's.  Inside the sandbox the ``autograder`` package is neither
importable nor readable, so :mod:`.boot` (the script the grader starts) loads this
folder by file path as the private package ``_grader_sandbox`` and imports every
module below before the file system view closes.  The grader imports the same
files as ``autograder.sandbox.inside.*`` where it needs the shared half (the
transport, the framing, the limits), so each exists once.
"""

# Imported by boot.py, in this order, before isolation.
MODULES = ("limits", "framing", "syscalls", "seccomp", "landlock", "transport", "runtime_guard",
           "implementation_guard",
           "audit", "confine", "child", "zygote")
