# For scrapyd-client (`newsmon cluster deploy`, `scrapyd-deploy`): it builds the Scrapyd egg
# with `setup.py bdist_egg` and would write a setup.py of its own that knows nothing of the
# package data. Everything is declared in pyproject.toml.
from setuptools import setup

setup()
