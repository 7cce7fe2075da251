package transit

import (
	"context"
	"fmt"
	"time"
)

// MaintainPartitions creates the daily history partitions from yesterday to PartitionDays ahead
// and drops those older than Retention. It returns how many it created and dropped.
func (s *Service) MaintainPartitions(ctx context.Context) (created, dropped int, err error) {
	if err := s.Pool.QueryRow(ctx, `SELECT transit.ensure_position_partitions(current_date - 1, $1)`, s.PartitionDays+2).Scan(&created); err != nil {
		return 0, 0, fmt.Errorf("position partitions: %w", err)
	}
	before := time.Now().Add(-s.Retention)
	if err := s.Pool.QueryRow(ctx, `SELECT transit.drop_position_partitions($1)`, before).Scan(&dropped); err != nil {
		return created, 0, fmt.Errorf("position retention: %w", err)
	}
	return created, dropped, nil
}

// Run does the service's background work until ctx is done, then stops it all (Close): it keeps
// the history partitions current (now, then hourly), loads the network and catches the live
// layer up, and runs the live hub. New starts nothing; ingest workers and the live layer's
// writer start on first use and stop with Close too.
func (s *Service) Run(ctx context.Context) {
	defer s.Close()
	s.startMaintenance()
	select {
	case <-ctx.Done():
	case <-s.bg.Done(): // closed without Run's context ending
	}
}

func (s *Service) startMaintenance() {
	s.hub.Start()
	s.goBackground(func(ctx context.Context) {
		if _, err := s.Network(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("transit network not loaded", "error", err)
		}
		if err := s.syncAllLayer(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("live layer catch-up failed", "error", err)
		}
		if err := s.syncAllLayer(ctx); err != nil && ctx.Err() == nil {
			s.Logger.Warn("live layer catch-up failed", "error", err)
		}
	})
	s.goBackground(func(ctx context.Context) {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			c, d, err := s.MaintainPartitions(ctx)
			if err != nil && ctx.Err() == nil {
				s.Logger.Error("transit maintenance failed", "error", err)
			} else if c+d > 0 {
				s.Logger.Info("position history partitions", "created", c, "dropped", d)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}
