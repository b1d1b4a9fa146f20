"""Live-state checks (MSH500-MSH519), run only by ``meshctl diagnose``.

What the files cannot show and the cluster can: pods with or without proxies, proxy
versions, readiness, endpoints, admission webhooks, TLS Secrets, status conditions, CRD
bundle versions, control-plane health, and what could not be read (partial views).
Each module declares its RULE like every other rule and registers its check with
``@live_check(RULE, needs=...)`` (``_live.py``): the kinds it cannot judge without. The
rules have no analysis function, so ``analyze`` never runs them.
"""
