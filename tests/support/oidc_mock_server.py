"""Run ``oidc-provider-mock``'s OpenID provider on ``127.0.0.1`` (a free port,
printed on the first line of stdout) until stopped.

Its own process: the mock runs Flask and Authlib's server code, whose
deprecation warnings would otherwise meet the test run's warnings-as-errors.
One route is added for the tests: ``POST /_test/rotate-keys`` replaces the
signing key, as an issuer's key rotation does (the JWKS then serves only the
new key).

Usage: ``python tests/support/oidc_mock_server.py``
"""

import logging
import sys
import warnings

import authlib.deprecate  # noqa: F401 - resets the filter for its warnings...

warnings.simplefilter("ignore")  # ...so silence them after it
if True:  # imports after the filter
    import flask
    import oidc_provider_mock  # type: ignore[import-untyped]  # no stubs exist
    import werkzeug.serving
    from authlib import jose


def main() -> None:
    # Authlib resets the filter for its own deprecations on import.
    warnings.simplefilter("ignore")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app: flask.Flask = oidc_provider_mock.app()

    @app.post("/_test/rotate-keys")
    def rotate_keys() -> tuple[str, int]:
        storage = flask.g.oidc_provider_mock_storage
        storage.jwk = jose.RSAKey.generate_key(is_private=True)
        return "", 204

    server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
    sys.stdout.write(f"{server.server_port}\n")
    sys.stdout.flush()
    server.serve_forever(poll_interval=0.1)


if __name__ == "__main__":
    main()
