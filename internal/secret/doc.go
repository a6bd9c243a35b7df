// Package secret finds credentials in files, directories, archives, git
// history and image layers.
//
// Rules are data (package rules: the embedded builtin.yaml, Ward-format
// user files, gitleaks TOML configurations). An Aho-Corasick automaton over
// every rule's keywords (ASCII case-insensitive, one table lookup per byte)
// finds candidate positions; each rule's regex then runs only on a window
// around its keywords (the keyword's line, or a few KiB for multiline rules
// such as PEM keys). Matches pass the rule's entropy threshold, per-rule and
// global allowlists (paths, regexes, stopwords), placeholder detection
// (changeme, ${VAR}, <password>, xxxx, vendor example keys), and overlap
// resolution (a generic rule yields to a provider rule). Base64, hex and
// percent-encoded runs are decoded and rescanned to MaxDecodeDepth.
//
// # API used by the orchestrator and the CLI
//
//	s, err := secret.New(secret.Options{...})      // built-in + --rules + --config-gitleaks
//	fs, errs := s.ScanDir(ctx, target, dir)        // parallel workers, archives, skips counted
//	fs, err  := s.ScanReader(ctx, target, loc, r)  // stdin, image-layer files (loc: layer digest + path)
//	fs, err  := s.ScanText(ctx, target, loc, text) // image config env values and history lines
//	fs, errs := s.ScanGit(ctx, target, repo, secret.GitOptions{Since, Branch, All, Staged})
//	secret.MarkDeleted(fs)                         // files removed by a later layer: still in the image
//	st := s.Stats()                                // files/bytes scanned, skipped binary/large, notes
//	bl, err := secret.LoadBaseline("old.json")     // Options.Baseline: only new secrets reported
//
// Image layers: the orchestrator walks the layers and calls ScanReader for
// each candidate file with loc.Path (path in the image) and
// loc.LayerDigest set; for files a later layer deletes (whiteouts) it calls
// MarkDeleted on the returned findings, which sets Secret.Deleted and says
// in the message that the file is still present in the image. Config env
// values ("KEY=value") and history "created_by" lines go through ScanText
// with a loc naming them (e.g. Path "config:env" or "history[3]").
//
// # Findings
//
// RuleID is the rule's ID; Evidence is the line with the secret redacted
// (Options.ShowSecrets to reveal); Secret.SHA256 is the SHA-256 of the raw
// secret; Fingerprint = finding.Fingerprint("secret", rule ID, path,
// secret hash), so it is stable across line moves (and identical for the
// same secret in the same path in different commits). A line containing
// "ward:allow" marks its findings Suppressed{Kind: "inline"}; baseline
// matches get Suppressed{Kind: "baseline"}. Allowlisted matches are dropped.
//
// # Limits
//
// Inputs are streamed in 1 MiB chunks with a 64 KiB overlap, so memory is
// bounded for any input, including a single 1 GB line (regexes only see a
// window of at most 1.5 KiB per keyword hit on a line). ScanDir skips (and
// counts in Stats) binary files (a NUL byte in the first 8000 bytes) and
// files over MaxFileSize. Archives (zip, tar, gzip, tar.gz) nest to
// MaxArchiveDepth; MaxArchiveSize/MaxArchiveEntries and a 1000:1 ratio check
// stop zip bombs, each with a note in Stats.Notes.
package secret
