package store

import (
	"context"
	"errors"
)

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	return nil, errors.New("store: PostgreSQL support is being added (use sqlite: for now)")
}

func (s *Store) migratePostgres(ctx context.Context) error {
	return errors.New("store: PostgreSQL support is being added")
}
