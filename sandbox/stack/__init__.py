"""The local stack: moto as AWS, built from template.yaml, with the handlers wired as Lambda would wire them."""
