package bootstrap

import (
	"os"

	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the zap logger LOG_LEVEL and LOG_FORMAT describe: JSON
// lines for machines, or console lines for a person, coloured only when
// stderr is a terminal (not in a file, a pipe or docker logs). Sampling is
// off so that every failed request keeps its one line.
func NewLogger(c Config) (*zap.Logger, error) {
	var zc zap.Config
	if c.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = levelEncoder(isTerminal(os.Stderr))
		zc.DisableStacktrace = true
	} else {
		zc = zap.NewProductionConfig()
		zc.EncoderConfig.TimeKey = "time"
		zc.EncoderConfig.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	}
	zc.Level = zap.NewAtomicLevelAt(c.LogLevel)
	zc.Sampling = nil
	zc.Development = false
	return zc.Build()
}

// levelEncoder writes console levels with ANSI colours only for a
// terminal.
func levelEncoder(terminal bool) zapcore.LevelEncoder {
	if terminal {
		return zapcore.CapitalColorLevelEncoder
	}
	return zapcore.CapitalLevelEncoder
}

// isTerminal reports whether f is a character device, as a terminal is.
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// fxLogger routes fx's own events through zap at debug level, its errors
// too: every error fx logs (a hook that failed, the rollback) also comes
// back from Start, Stop or Err, and serve logs it there as the one line of
// a failed start, without fx's stack traces.
func fxLogger(log *zap.Logger) fxevent.Logger {
	l := &fxevent.ZapLogger{Logger: log.Named("fx")}
	l.UseLogLevel(zapcore.DebugLevel)
	l.UseErrorLevel(zapcore.DebugLevel)
	return l
}
