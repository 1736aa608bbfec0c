"""AWS Lambda entry points for the API Gateway deployment (``DELIVERY_PROVIDER=aws``).

:mod:`steeple.aws.handler` holds the two handlers the deployment template names: one
for HTTP (the same web app as every other mode) and one for the WebSocket API's
``$connect``, ``$disconnect`` and ``$default`` routes.
"""
