"""Server-rendered pages: sign-in, OAuth consent, device approval.

Every page shares one layout (``templates/base.html``) and stylesheet, runs no
script (a strict CSP says so), and posts forms that carry a CSRF token and
must come from this origin.
"""
