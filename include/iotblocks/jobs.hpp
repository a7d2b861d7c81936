// iotblocks jobs: AWS IoT Jobs semantics — jobs and job executions with AWS's state machine,
// expected versions, status details and timeouts, a store, the service, and the device MQTT
// API as a topic router with notify and notify-next pushes. See docs/jobs.md.
#pragma once

#include <iotblocks/jobs/config.hpp>
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/managed_templates.hpp>
#include <iotblocks/jobs/model.hpp>
#include <iotblocks/jobs/request.hpp>
#include <iotblocks/jobs/service.hpp>
#include <iotblocks/jobs/store.hpp>
