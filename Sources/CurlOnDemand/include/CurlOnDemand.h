#ifndef CURL_ON_DEMAND_H
#define CURL_ON_DEMAND_H

/// Whether libcurl has been loaded by the first call into it (see curl_on_demand.c).
int curl_on_demand_is_loaded(void);

#endif
