// Command iotrace traces system calls with eBPF and shows what the kernel did for them.
package main

import (
	"os"

	"github.com/iotrace/iotrace/internal/cli"
)

func main() {
	os.Exit(cli.Main())
}
