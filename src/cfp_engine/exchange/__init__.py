"""The PACT host: publish footprints, register data recipients, serve PACT v2.3 and v3.0.

:func:`open_database` opens (and migrates) the host database; :func:`publish` stores a
footprint made by ``cfp label``; :func:`add_client` registers a data recipient;
:func:`create_app` is the ASGI application and :func:`serve` runs it over TLS;
:func:`import_answers` stores the footprints of answers to this store's requests.
"""

from cfp_engine.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(
    __name__,
    {
        "open_database": "database",
        "publish": "publishing",
        "publish_many": "publishing",
        "announce": "announce",
        "deprecate": "publishing",
        "list_footprints": "publishing",
        "add_client": "clients",
        "list_clients": "clients",
        "remove_client": "clients",
        "rotate_secret": "clients",
        "create_app": "app",
        "serve": "server",
        "ServeOptions": "server",
        "dev_tls_paths": "tls",
        "import_answers": "inbox",
    },
)
