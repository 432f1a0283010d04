"""Packaging for `lab`: reads `settings.ini` (nbdev 2 template, trimmed)."""
from configparser import ConfigParser
import setuptools, shlex

cfg = ConfigParser(delimiters=["="])
cfg.read("settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]
licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable"]
lic = licenses[cfg["license"]]
reqs = shlex.split(cfg.get("requirements", ""))
dev_reqs = shlex.split(cfg.get("dev_requirements", ""))
scripts = [s.strip() for s in cfg.get("console_scripts", "").split() if s.strip()]

setuptools.setup(
    name=cfg["lib_name"], version=cfg["version"], description=cfg["description"],
    license=lic[0], author=cfg["author"], author_email=cfg["author_email"],
    classifiers=[f"Development Status :: {statuses[int(cfg['status'])]}",
                 f"Intended Audience :: {cfg['audience']}", f"License :: {lic[1]}",
                 f"Natural Language :: {cfg['language']}", "Programming Language :: Python :: 3"],
    url=cfg["git_url"], project_urls={"Source": cfg["git_url"]}, keywords=cfg["keywords"].split(),
    packages=setuptools.find_packages(include=["lab", "lab.*"]),
    include_package_data=True, install_requires=reqs, extras_require={"dev": dev_reqs},
    package_data={"lab": ["**/data/*.json"]},   # data files shipped with the code (e.g. the span benchmark's word lists)
    python_requires=">=" + cfg["min_python"], long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown", zip_safe=False,
    entry_points={"console_scripts": scripts, "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
