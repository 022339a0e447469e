"""Maps the repository's fixed top-level layout onto the single import namespace `aksaudit`.

`auditor/` is `aksaudit`, `checks/` is `aksaudit.checks`, `reports/` is `aksaudit.reports`.
The package list is derived from the folders so a new check folder needs no packaging edit.
"""
from setuptools import find_packages, setup

ROOTS = {"aksaudit": "auditor", "aksaudit.checks": "checks", "aksaudit.reports": "reports"}


def _packages() -> tuple[list[str], dict[str, str]]:
    packages: list[str] = []
    package_dir: dict[str, str] = {}
    for name, folder in ROOTS.items():
        packages.append(name)
        package_dir[name] = folder
        for sub in find_packages(where=folder):
            packages.append(f"{name}.{sub}")
    return packages, package_dir


PACKAGES, PACKAGE_DIR = _packages()
setup(packages=PACKAGES, package_dir=PACKAGE_DIR)
