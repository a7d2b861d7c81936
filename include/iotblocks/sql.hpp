// AWS IoT rule SQL (2016-03-23): compile rules and substitution templates once,
// evaluate them against messages many times.
//
//   #include <iotblocks/sql.hpp>
//   auto rule = iotblocks::sql::compile("SELECT * FROM 'doorbell/+'").value();
//   iotblocks::sql::evaluator ev;
//   auto out = ev.evaluate(rule, msg);
#pragma once

#include <iotblocks/sql/error.hpp>
#include <iotblocks/sql/evaluator.hpp>
#include <iotblocks/sql/functions.hpp>
#include <iotblocks/sql/message.hpp>
#include <iotblocks/sql/rule.hpp>
#include <iotblocks/sql/template.hpp>
#include <iotblocks/sql/value.hpp>
