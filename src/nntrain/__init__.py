"""nntrain: the reference package of the course "Training Neural Networks".

One module per chapter of the book (see README.md for the map).  The book runs
on this package; the autograder does not need it (its suites compare against torch).
"""

__version__ = "0.1.0"
