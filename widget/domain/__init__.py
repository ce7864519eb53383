"""The rules of the product. No Flask request, no templates, no HTTP status codes here."""
