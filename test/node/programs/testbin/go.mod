// Small programs for the node suite's test images (see main.go). Nothing here is shipped.
module sidekick.dev/test/node/testbin

go 1.25.0
