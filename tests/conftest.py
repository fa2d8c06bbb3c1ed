"""Fixtures shared across the suite."""

import pytest

from helpers import copy_project, scons


@pytest.fixture(scope="session")
def built_project(tmp_path_factory):
    """One copy of the project built with plain `scons`: the state every e2e test starts from.

    Tests that change it put it back as they found it.
    """
    project = copy_project(tmp_path_factory.mktemp("built") / "project")
    run = scons(project)
    assert run.returncode == 0, run.output
    return project
