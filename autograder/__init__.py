"""The course's autograder: hidden pytest suites run against student notebooks.

Student code runs only in a sandboxed child process; the suites run in the
grader's own process and compare values that come back through a safe format.
Entry point: ``python -m autograder --help``; what each assignment grades is in
:mod:`autograder.spec`.
"""
