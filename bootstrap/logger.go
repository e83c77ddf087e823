package bootstrap

import (
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// NewLogger builds the zap logger LOG_LEVEL and LOG_FORMAT describe: JSON
// lines for machines, or colored console lines for a person at a terminal.
// Sampling is off so that every failed request keeps its one line.
func NewLogger(c Config) (*zap.Logger, error) {
	var zc zap.Config
	if c.LogFormat == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
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
