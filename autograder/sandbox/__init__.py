"""The grader's side of the sandbox that runs student code (see autograder/DESIGN.md).

``paths`` (what the child sees), ``zygote`` (the process that forks children),
``process`` (one child and its pipes), ``session`` (one submission: cells, calls,
limits, restarts), ``handles`` (objects left in the child, call information).
Everything that runs inside the sandbox is in ``inside/``.
"""
