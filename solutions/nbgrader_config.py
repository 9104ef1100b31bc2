"""nbgrader configuration of the course "nntrain".

Instructors run nbgrader from this folder (``cd solutions && nbgrader ...``); the
release in ``assignments/`` is made by ``python -m autograder release``, which
runs ``nbgrader generate_assignment`` in a temporary copy of this folder.  The
notebooks in ``source/`` are built from ``authoring/`` by the same command.
"""

c = get_config()  # noqa: F821 (nbgrader's config loader provides get_config)

c.CourseDirectory.course_id = "nntrain"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"

# What a student sees in place of a solution (nbgrader's defaults, stated here
# because the release tests and `autograder check` rely on them).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Executing a notebook (nbgrader validate / autograde) takes about 10 s here.
c.Execute.timeout = 300
