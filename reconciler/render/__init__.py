"""Plans for people: text in the Terraform style, markdown for a pull-request comment."""
