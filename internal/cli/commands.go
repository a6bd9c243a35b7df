package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wardsec/ward/internal/vuln/db"
)

// commands is the explicit list of Ward's verbs.
func commands(g *Globals) []*cobra.Command {
	return []*cobra.Command{
		newScanCmd(g),
		newFSCmd(g),
		newImageCmd(g),
		newConfigCmd(g),
		newSecretCmd(g),
		newSBOMCmd(g),
		newDBCmd(g),
		newVexCmd(g),
		newHostCmd(g),
		newK8sCmd(g),
		newRuntimeCmd(g),
		newCacheCmd(g),
		newKeygenCmd(g), newSignCmd(g), newVerifyCmd(g), newAttestCmd(g), newVerifyAttestationCmd(g),
		newAdmissionCmd(g),
		newServerCmd(g),
		newVersionCmd(g),
	}
}

// dbState describes the vulnerability database for `ward version`.
func (g *Globals) dbState() string {
	dir := db.DefaultDir(g.CacheDir)
	d, err := db.Open(dir)
	if err != nil {
		if errors.Is(err, db.ErrNoDB) {
			return "no DB (run `ward db update` or `ward db import`)"
		}
		return "unreadable: " + err.Error()
	}
	defer d.Close()
	st := d.Status()
	return fmt.Sprintf("%d advisories, %d ecosystems, built %s (%s)", st.Advisories, len(st.Ecosystems), st.Built.UTC().Format("2006-01-02 15:04 MST"), dir)
}
