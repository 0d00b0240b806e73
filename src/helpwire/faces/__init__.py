"""The wire formats of four real support APIs, each a translation onto the core services.

A face answers its product's paths, authentication, field names, enums, status codes and
error bodies, and nothing more: every rule lives in the core, so a ticket filed through one
face is the same ticket on the native API, the web UI and every other face.

Each face module exposes ``FACE`` (a :class:`helpwire.faces.common.Face`). Which faces are
served is the setting HELPWIRE_FACES.
"""

from __future__ import annotations

import importlib

from helpwire.faces.common import Face
from helpwire.settings import Settings

# name -> module; a face is imported only when it is switched on.
FACE_MODULES: dict[str, str] = {
    "ucloud": "helpwire.faces.ucloud",
    "cocalc": "helpwire.faces.cocalc",
    "selectel": "helpwire.faces.selectel",
    "f5xc": "helpwire.faces.f5xc",
}


def enabled_faces(settings: Settings) -> list[Face]:
    faces = []
    for name in settings.face_names:
        if name not in FACE_MODULES:
            raise ValueError(
                f"HELPWIRE_FACES names an unknown face {name!r}; known: {', '.join(FACE_MODULES)}"
            )
        module = importlib.import_module(FACE_MODULES[name])
        face: Face = module.FACE
        faces.append(face)
    return faces
