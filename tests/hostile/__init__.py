"""The hostile catalogue: submissions that attack or break the grader (tests/test_hostile.py)."""
