"""The OpenAPI document: what FastAPI generates from the routes, plus the error responses,
headers and links it cannot infer."""
