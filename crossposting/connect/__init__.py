"""Connecting network accounts: each network's authorisation (``flows``), the guard on the
server addresses members type (``addresses``), the services behind the networks page and API
(``services``), e-mails to owners (``notices``) and the beat tasks that look after tokens
(``tasks``)."""
