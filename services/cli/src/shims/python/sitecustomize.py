"""Loaded by `tf run` into every Python process of the agent (PYTHONPATH).

requests, httpx and urllib honour HTTP(S)_PROXY by themselves; aiohttp does not: its
ClientSession defaults to trust_env=False and then connects straight to the API. This module
makes every ClientSession trust the environment, so aiohttp goes through the gateway too. It
patches aiohttp only when the agent imports it, then loads any sitecustomize it shadows.
"""
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


def _patch_client_session(module):
    session = getattr(module, "ClientSession", None)
    if session is None or getattr(session, "_tameflare_patched", False):
        return
    original = session.__init__

    def __init__(self, *args, **kwargs):
        # An explicit trust_env=False would send requests around the gateway: always trust it.
        kwargs["trust_env"] = True
        original(self, *args, **kwargs)

    session.__init__ = __init__
    session._tameflare_patched = True


class _AiohttpClientFinder(importlib.abc.MetaPathFinder):
    """Wraps the loader of aiohttp.client so ClientSession is patched as soon as it exists."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "aiohttp.client":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        loader = spec.loader
        exec_module = loader.exec_module

        def patched_exec(module):
            exec_module(module)
            _patch_client_session(module)

        loader.exec_module = patched_exec
        return spec


if os.environ.get("TF_PROXY_URL"):
    if "aiohttp.client" in sys.modules:
        _patch_client_session(sys.modules["aiohttp.client"])
    else:
        sys.meta_path.insert(0, _AiohttpClientFinder())


def _load_shadowed_sitecustomize():
    """Runs the sitecustomize this one hides (Debian ships one), if any."""
    for entry in sys.path:
        if not entry or os.path.abspath(entry) == _HERE:
            continue
        candidate = os.path.join(entry, "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_tameflare_shadowed_sitecustomize", candidate)
            if spec and spec.loader:
                try:
                    spec.loader.exec_module(importlib.util.module_from_spec(spec))
                except Exception as err:  # the agent must still start
                    sys.stderr.write("tf: the shadowed %s failed: %s\n" % (candidate, err))
            return


_load_shadowed_sitecustomize()
