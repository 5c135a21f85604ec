"""broadcast: templated Vietnamese anti-scam warnings -> audio and weekly playlists for commune loudspeakers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("broadcast")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0"
