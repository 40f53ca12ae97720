"""The code-first example of docs/code-first.md: three Emmett models that become collections.

Point ``EMMETTBASE_MODULES`` at this module (``tests.support.codefirst_models``) and ``products``,
``posts`` and ``comments`` appear with the records API. Keep it identical to the documentation.
"""

from emmett.orm import Field, Model, belongs_to, has_many


class Product(Model):
    name = Field.string()
    price = Field.decimal(10, 2)
    available = Field.bool(default=True)

    validation = {
        "name": {"presence": True},
        "price": {"gt": 0},
    }

    rules = {"list": "", "view": ""}


class Post(Model):
    belongs_to("user")
    has_many("comments")

    title = Field.string()
    body = Field.text()

    validation = {
        "title": {"presence": True, "len": {"gte": 3, "lte": 200}},
    }

    rules = {
        "list": "",
        "view": "",
        "create": '@request.auth.id != ""',
    }


class Comment(Model):
    belongs_to("post", "user")

    body = Field.text()

    validation = {
        "body": {"presence": True},
    }

    rules = {
        "list": "",
        "view": "",
        "create": '@request.auth.id != ""',
    }
