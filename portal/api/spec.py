"""The API's OpenAPI document: flask-smorest builds it from the views and their marshmallow schemas."""

from flask_smorest import Api

api = Api()
api.DEFAULT_ERROR_RESPONSE_NAME = None  # every error is declared per view, as problem+json
