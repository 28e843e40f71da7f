//! The providers' pace shared by every instance through Redis (see
//! `relais_bots::delivery::SharedPace`): one counter per channel and second of Redis's own
//! clock, so instances whose clocks differ still count the same second. Without Redis an
//! instance is alone by design and keeps its own pace.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use relais_bots::delivery::SharedPace;
use relais_core::helpline::model::Channel;

/// Counts a send in the current second; answers 0 when it fits within the pace, else the
/// microseconds left in this second.
const TAKE: &str = r"
local now = redis.call('TIME')
local key = KEYS[1] .. ':' .. now[1]
local sent = redis.call('INCR', key)
if sent == 1 then redis.call('EXPIRE', key, 2) end
if sent <= tonumber(ARGV[1]) then return 0 end
return 1000000 - tonumber(now[2])
";

pub struct RedisPace {
    redis: redis::aio::ConnectionManager,
}

impl RedisPace {
    pub fn new(redis: redis::aio::ConnectionManager) -> Self {
        Self { redis }
    }
}

impl SharedPace for RedisPace {
    fn take(
        &self,
        channel: Channel,
        per_second: u32,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Duration>, String>> + Send + '_>> {
        Box::pin(async move {
            let mut redis = self.redis.clone();
            // EVAL with the script's text (a few hundred bytes, at most the providers' pace a
            // second): no script cache to miss after a Redis restart.
            let wait_micros: u64 = redis::cmd("EVAL")
                .arg(TAKE)
                .arg(1)
                .arg(format!("relais:pace:{}", channel.as_str()))
                .arg(per_second)
                .query_async(&mut redis)
                .await
                .map_err(|e| e.to_string())?;
            Ok((wait_micros > 0).then(|| Duration::from_micros(wait_micros)))
        })
    }
}
